/* Unit tests for the helper's parsers: numbers, sizes, CPU lists, names,
 * addresses, paths and the config grammar. Built with ASan/UBSan by
 * `make unit`; prints "N passed, N failed" and exits non-zero on failure. */
#include "config.h"
#include "core/parse.h"
#include "policy.h"

#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond) check((cond), #cond, __LINE__)

static void check(int ok, const char *what, int line)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL line %d: %s\n", line, what);
}

static int size_is(const char *s, uint64_t want)
{
	uint64_t v = 0;
	return parse_size(s, &v) == 0 && v == want;
}

static int size_bad(const char *s)
{
	uint64_t v;
	return parse_size(s, &v) < 0;
}

static void test_numbers(void)
{
	uint64_t v;

	CHECK(parse_u64("0", 10, &v) == 0 && v == 0);
	CHECK(parse_u64("10", 10, &v) == 0 && v == 10);
	CHECK(parse_u64("11", 10, &v) < 0);
	CHECK(parse_u64("18446744073709551615", UINT64_MAX, &v) == 0 && v == UINT64_MAX);
	CHECK(parse_u64("18446744073709551616", UINT64_MAX, &v) < 0);
	for (const char *const *s = (const char *const[]){ "", "-1", "+1", " 1", "1 ",
		"12abc", "1e9", "0x10", "1.5", NULL }; *s; s++)
		CHECK(parse_u64(*s, UINT64_MAX, &v) < 0);
}

static void test_sizes(void)
{
	char buf[32];

	CHECK(size_is("10M", 10485760));
	CHECK(size_is("10m", 10485760));
	CHECK(size_is("512k", 524288));
	CHECK(size_is("2G", 2147483648ULL));
	CHECK(size_is("100", 100));
	CHECK(size_bad("12abc"));
	CHECK(size_bad("-1"));
	CHECK(size_bad(""));
	CHECK(size_bad("1e9"));
	CHECK(size_bad("M"));
	CHECK(size_bad("10MB"));
	CHECK(size_bad("10T"));
	CHECK(size_bad("99999999999999999999G"));
	CHECK(size_bad("17179869184G")); /* 2^34 GiB overflows 64 bits */
	format_size(536870912, buf, sizeof buf);
	CHECK(strcmp(buf, "512M") == 0);
	format_size(2147483648ULL, buf, sizeof buf);
	CHECK(strcmp(buf, "2G") == 0);
	format_size(1536 * 1024, buf, sizeof buf);
	CHECK(strcmp(buf, "1536K") == 0);
	format_size(100, buf, sizeof buf);
	CHECK(strcmp(buf, "100") == 0);
}

/* CPU quotas, in thousandths of a CPU (issue 16). */
static void test_milli(void)
{
	static const char *const bad[] = { "", ".5", "1.", "0.0001", "-1", "1e3", "1,5", "2x",
					   "0x10", "1.2.3", " 1", "1025", NULL };
	uint64_t v;
	char buf[32];

	CHECK(parse_milli("0.5", 1024000, &v) == 0 && v == 500);
	CHECK(parse_milli("2", 1024000, &v) == 0 && v == 2000);
	CHECK(parse_milli("2.0", 1024000, &v) == 0 && v == 2000);
	CHECK(parse_milli("0.01", 1024000, &v) == 0 && v == 10);
	CHECK(parse_milli("1.125", 1024000, &v) == 0 && v == 1125);
	CHECK(parse_milli("1024", 1024000, &v) == 0 && v == 1024000);
	CHECK(parse_milli("1024.001", 1024000, &v) < 0);
	for (const char *const *s = bad; *s; s++)
		CHECK(parse_milli(*s, 1024000, &v) < 0);
	format_milli(500, buf, sizeof buf);
	CHECK(strcmp(buf, "0.5") == 0);
	format_milli(2000, buf, sizeof buf);
	CHECK(strcmp(buf, "2") == 0);
	format_milli(1125, buf, sizeof buf);
	CHECK(strcmp(buf, "1.125") == 0);
	format_milli(10, buf, sizeof buf);
	CHECK(strcmp(buf, "0.01") == 0);
}

static void test_cpulists(void)
{
	uint64_t m[16];

	CHECK(parse_cpulist("0", m) == 0 && m[0] == 1 && cpumask_count(m) == 1);
	CHECK(parse_cpulist("0-3,6", m) == 0 && m[0] == 0x4f);
	CHECK(parse_cpulist("1023", m) == 0 && cpumask_count(m) == 1);
	for (const char *const *s = (const char *const[]){ "", "1024", "3-1", "1,1", "2,1",
		"1-", "-1", "1,", ",1", "01", "a", "1 ", "0-3,2", NULL }; *s; s++)
		CHECK(parse_cpulist(*s, m) < 0);
}

static void test_names(void)
{
	char long64[65];

	memset(long64, 'a', 64);
	long64[64] = '\0';
	CHECK(valid_dns_label("administrator", 63));
	CHECK(valid_dns_label("lab-1", 63));
	CHECK(!valid_dns_label("a b", 63));
	CHECK(!valid_dns_label("-a", 63));
	CHECK(!valid_dns_label("Admin", 63));
	CHECK(!valid_dns_label("", 63));
	CHECK(!valid_dns_label(long64, 63));
	CHECK(valid_dns_label(long64 + 1, 63));
	CHECK(!valid_dns_label("veth-1234567890ab", 15));
	CHECK(valid_name("web.1_a-b"));
	CHECK(!valid_name(".web"));
	CHECK(!valid_name("a/b"));
	CHECK(!valid_name(long64));
}

static void test_addresses(void)
{
	uint32_t a;
	unsigned p;

	CHECK(parse_ipv4("10.0.0.1", &a) == 0 && a == 0x0a000001);
	CHECK(parse_ipv4("255.255.255.255", &a) == 0 && a == 0xffffffff);
	for (const char *const *s = (const char *const[]){ "10.0.0", "10.0.0.256", "010.0.0.1",
		"10.0.0.1.", "10.0.0.1;touch /tmp/x", " 10.0.0.1", "10..0.1", "", NULL }; *s; s++)
		CHECK(parse_ipv4(*s, &a) < 0);
	CHECK(parse_cidr("10.0.0.0/24", &a, &p) == 0 && p == 24);
	CHECK(parse_cidr("10.0.0.0/33", &a, &p) < 0);
	CHECK(parse_cidr("10.0.0.0/024", &a, &p) < 0);
	CHECK(parse_cidr("10.0.0.0", &a, &p) < 0);
}

static void test_paths(void)
{
	CHECK(valid_abs_path("/"));
	CHECK(valid_abs_path("/srv/labs"));
	CHECK(!valid_abs_path("srv"));
	CHECK(!valid_abs_path("/srv/"));
	CHECK(!valid_abs_path("/srv//labs"));
	CHECK(!valid_abs_path("/srv/./labs"));
	CHECK(!valid_abs_path("/srv/labs/../etc"));
	CHECK(path_within("/srv/labs/a", "/srv/labs"));
	CHECK(path_within("/srv/labs", "/srv/labs"));
	CHECK(!path_within("/srv/labs2", "/srv/labs"));
	CHECK(!path_within("/srv/lab", "/srv/labs"));
	CHECK(path_within("/anything", "/"));
}

static int parses(const char *text, struct config *cfg)
{
	return config_parse(cfg, "test.conf", text, strlen(text)) == 0;
}

static int error_is(const char *text, const char *want)
{
	struct config cfg;
	int ok = !parses(text, &cfg) && strcmp(cfg.error, want) == 0 && cfg.nrules == 0;

	if (!ok)
		printf("  config error was: %s\n", cfg.error);
	config_free(&cfg);
	return ok;
}

static void test_config(void)
{
	struct config cfg;
	char big[5000];

	CHECK(parses("# comment\n\npermit :minidocker memory=512M cpus=0-3 pids=512 "
		     "containers=3 ip=10.0.0.0/24 bridge=md0 rootfs=/var/lib/x rootfs=~\n"
		     "deny bob\nbridge md0 10.0.0.254/24\n", &cfg));
	CHECK(cfg.nrules == 2 && cfg.rules[0].is_group && cfg.rules[0].memory == 536870912);
	CHECK(cfg.rules[0].nrootfs == 2 && strcmp(cfg.rules[0].rootfs[1], "~") == 0);
	CHECK(!cfg.rules[1].permit && cfg.has_bridge && cfg.gateway == 0x0a0000fe);
	config_free(&cfg);
	CHECK(error_is("permit alice\nallow bob\n", "test.conf:2: unknown keyword: allow"));
	CHECK(error_is("permit alice colour=blue\n", "test.conf:1: unknown option: colour"));
	CHECK(error_is("permit alice pids=1e9\n", "test.conf:1: bad pids: 1e9"));
	CHECK(error_is("permit alice memory=-1\n", "test.conf:1: bad memory: -1"));
	CHECK(error_is("permit alice memory=1M memory=2M\n", "test.conf:1: memory given twice"));
	CHECK(error_is("permit alice rootfs=relative\n", "test.conf:1: bad rootfs: relative"));
	CHECK(error_is("permit alice rootfs=/a/../b\n", "test.conf:1: bad rootfs: /a/../b"));
	CHECK(error_is("permit\n", "test.conf:1: permit needs a user or :group"));
	CHECK(error_is("permit a;b\n", "test.conf:1: bad user or group name"));
	CHECK(error_is("permit alice userns=yes\n", "test.conf:1: bad userns: yes"));
	CHECK(error_is("permit alice nested=1\n", "test.conf:1: bad nested: 1"));
	CHECK(error_is("permit alice nested=yes nested=no\n", "test.conf:1: nested given twice"));
	CHECK(parses("permit a nested=yes\npermit b nested=force\npermit c nested=no\npermit d\n", &cfg));
	CHECK(cfg.rules[0].nested == NESTED_YES && cfg.rules[1].nested == NESTED_FORCE &&
	      cfg.rules[2].nested == NESTED_NO && cfg.rules[3].nested == NESTED_NO);
	CHECK(policy_nested(&cfg.rules[1]) && !policy_nested(&cfg.rules[2]) &&
	      !policy_nested(&cfg.rules[3]));
	config_free(&cfg);
	CHECK(parses("permit a bind=~ bind=/srv/lab:ro bind=/data\n", &cfg));
	CHECK(cfg.rules[0].nbinds == 3 && strcmp(cfg.rules[0].binds[0], "~") == 0 &&
	      !cfg.rules[0].binds_ro[0] && strcmp(cfg.rules[0].binds[1], "/srv/lab") == 0 &&
	      cfg.rules[0].binds_ro[1] && !cfg.rules[0].binds_ro[2]);
	config_free(&cfg);
	CHECK(error_is("permit a bind=/\n", "test.conf:1: bad bind: /"));
	CHECK(error_is("permit a bind=rel\n", "test.conf:1: bad bind: rel"));
	CHECK(error_is("permit a bind=/srv/x:rw\n", "test.conf:1: bad bind: /srv/x:rw"));
	CHECK(error_is("permit a bind=/srv/x/\n", "test.conf:1: bad bind: /srv/x/"));
	CHECK(parses("permit a cpu-quota=1.5 io=yes\npermit b io=no\npermit c\n", &cfg));
	CHECK(cfg.rules[0].cpu_quota == 1500 && cfg.rules[0].io && !cfg.rules[1].io &&
	      !cfg.rules[2].io && cfg.rules[2].cpu_quota == 0);
	config_free(&cfg);
	CHECK(error_is("permit alice cpu-quota=0\n", "test.conf:1: bad cpu-quota: 0"));
	CHECK(error_is("permit alice cpu-quota=1e3\n", "test.conf:1: bad cpu-quota: 1e3"));
	CHECK(error_is("permit alice io=1\n", "test.conf:1: bad io: 1"));
	CHECK(error_is("permit alice io=yes io=no\n", "test.conf:1: io given twice"));
	CHECK(error_is("bridge md0\n", "test.conf:1: expected: bridge NAME ADDR/PREFIX"));
	{
		struct config c2;
		static const char nul[] = "permit alice\npermit\0bob\n";
		CHECK(config_parse(&c2, "test.conf", nul, sizeof nul - 1) < 0 &&
		      strcmp(c2.error, "test.conf:2: NUL byte") == 0);
		config_free(&c2);
	}
	memset(big, 'a', sizeof big);
	memcpy(big, "permit ", 7);
	big[sizeof big - 1] = '\0';
	CHECK(error_is(big, "test.conf:1: line too long"));
}

static void test_too_many_rules(void)
{
	static char text[(CONF_MAX_RULES + 1) * 10];
	size_t n = 0;
	struct config cfg;

	for (int i = 0; i <= CONF_MAX_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "deny u%d\n", i % 1000);
	CHECK(config_parse(&cfg, "t", text, n) < 0 &&
	      strstr(cfg.error, "too many rules") != NULL && cfg.nrules == 0);
	config_free(&cfg);
}

int main(void)
{
	test_numbers();
	test_sizes();
	test_milli();
	test_cpulists();
	test_names();
	test_addresses();
	test_paths();
	test_config();
	test_too_many_rules();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
