/* libFuzzer target for the config parser (SECURITY.md 5): any bytes must
 * parse or fail cleanly, never crash, leak or read out of bounds. Run by
 * `make fuzz` (FUZZ_SECONDS, default 60) under ASan and UBSan. */
#include "config.h"
#include "core/parse.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;

	if (config_parse(&cfg, "fuzz", (const char *)data, size) == 0) {
		/* Whatever parsed must be self-consistent. */
		for (int i = 0; i < cfg.nrules; i++)
			if (cfg.rules[i].nrootfs > CONF_MAX_ROOTFS)
				__builtin_trap();
	}
	config_free(&cfg);
	return 0;
}
