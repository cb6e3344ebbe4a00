/* config.h: the administrator's whitelist, /etc/minidocker/minidocker.conf.
 *
 *   permit|deny USER|:GROUP [memory=SIZE] [swap=SIZE] [cpus=LIST] [pids=N]
 *                           [containers=N] [ip=CIDR] [bridge=NAME]
 *                           [rootfs=DIR]... [bind=DIR[:ro]]... [userns=host]
 *                           [nested=yes|force] [cpu-quota=CPUS] [io=yes|no]
 *   bridge NAME ADDR/PREFIX
 */
#ifndef MD_CONFIG_H
#define MD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_BYTES (1024 * 1024)
#define CONF_MAX_LINE 4096
#define CONF_MAX_RULES 10000
#define CONF_MAX_ROOTFS 16
#define CONF_MAX_BINDS 16
#define CONF_NAME_MAX 64

struct rule {
	int line;
	int permit;               /* 1 permit, 0 deny */
	int is_group;             /* subject is :GROUP */
	char subject[CONF_NAME_MAX];
	uint64_t memory;          /* 0: not set */
	uint64_t swap;
	int has_cpus;
	uint64_t cpus[16];
	uint64_t pids;
	uint64_t containers;
	int has_ip;
	uint32_t ip, ip_prefix;
	char bridge[16];
	int nrootfs;
	char rootfs[CONF_MAX_ROOTFS][256]; /* absolute paths, or "~" */
	int nbinds;
	char binds[CONF_MAX_BINDS][256];   /* trees binds may come from: absolute, or "~" */
	int binds_ro[CONF_MAX_BINDS];      /* 1: read-only binds only (DIR:ro) */
	int userns_host;
	int nested;               /* NESTED_NO, _YES or _FORCE (policy_nested) */
	uint64_t cpu_quota;       /* cpu-quota=: most CPU time, thousandths of a CPU; 0: no cap */
	int io;                   /* io=yes: --device-read-bps/--device-write-bps allowed */
};

enum { NESTED_NO, NESTED_YES, NESTED_FORCE };

struct config {
	const char *file;         /* for file:line messages */
	struct rule *rules;
	int nrules, cap;
	char bridge[16];          /* the `bridge` line: name and gateway */
	uint32_t gateway;
	unsigned gateway_prefix;
	int has_bridge;
	char error[512];          /* first error, "file:line: message" */
	int nerrors;
};

/* Parse a whole config held in memory. Returns 0, or -1 with cfg->error set
 * and no rules kept: any error refuses everybody (SECURITY.md 4). */
int config_parse(struct config *cfg, const char *file, const char *text, size_t len);
/* Open the compiled-in config safely and parse it; dies on any problem
 * (missing, not root-owned, writable by others, parse errors). */
void config_load(struct config *cfg, const char *path);
void config_free(struct config *cfg);

#endif
