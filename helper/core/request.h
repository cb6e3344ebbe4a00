/* request.h: what the caller asks `mdhelper run` for, parsed strictly. */
#ifndef MD_REQUEST_H
#define MD_REQUEST_H

#include <stdint.h>
#include <sys/types.h>

#define REQ_MAX_ENV 256
#define REQ_MAX_ARGS 1024
#define REQ_MAX_ARG_LEN (64 * 1024)
#define REQ_MAX_TOTAL (512 * 1024)
#define REQ_MAX_BINDS 16

/* --volume SRC:DST[:ro|:rw]: the caller's SRC at DST inside (binds.c). */
struct bind_request {
	char *src;                /* absolute, no . or .. components */
	char *dst;                /* absolute, not /, not in /proc, /sys, /dev */
	int read_only;
};

/* --layer: how the rootfs is seen (layer.c). */
enum layer_mode {
	LAYER_AUTO,               /* a system rootfs gets a throw-away layer, one's own is written */
	LAYER_READ_ONLY,          /* nothing writable but the tmpfs scratch dirs */
	LAYER_EPHEMERAL,          /* a throw-away layer over any rootfs */
};
#define REQ_MAX_IO 16 /* --device-read-bps and --device-write-bps, together */

struct request {
	const char *rootfs;       /* absolute path, checked by rootfs.c */
	const char *hostname;     /* valid_dns_label(…, 63) */
	const char *name;         /* valid_name, or NULL */
	const char *workdir;      /* absolute path inside the container */
	const char *env[REQ_MAX_ENV]; /* KEY=VALUE */
	int nenv;
	int userns_host;          /* --userns host: root callers only */
	int net_none;             /* --net none: loopback only */
	int net_bridge;           /* --net bridge: on the bridge or refuse */
	const char *ip;           /* --ip ADDR: exactly this address or refuse */
	uint64_t memory, memory_swap, pids; /* 0: not asked */
	unsigned cpus;            /* --cpus N; 0: not asked */
	const char *cpuset;       /* --cpuset-cpus LIST, or NULL */
	int init;                 /* --init: our init as PID 1 (spawn/init.h) */
	const char *user;         /* --user UID[:GID] as given, or NULL; */
	uid_t uid;                /*   inside the container; checked against */
	gid_t gid;                /*   the maps by ids.c:check_user_mapped */
	const char *log_dir;      /* --detach LOGDIR: in the background, output to LOGDIR/NAME.log */
	struct bind_request binds[REQ_MAX_BINDS];
	int nbinds;
	enum layer_mode layer;
	unsigned cpu_quota;       /* --cpu-quota CPUS, in thousandths of a CPU; 0: not asked */
	struct req_io {           /* --device-read-bps / --device-write-bps DEV:RATE */
		char path[256];   /* /dev/..., resolved as the caller by core/limits.c */
		uint64_t bps;
		int write;
	} io[REQ_MAX_IO];
	int nio;
	char *const *argv;        /* the command; never empty */
};

/* Parse `run` arguments (argv after the verb). Dies with a usage message,
 * exit 125, on anything it does not accept. */
extern const char request_usage[];
void request_parse(struct request *req, int argc, char **argv);
/* --user UID[:GID] into req->user, uid, gid (run and exec); dies when it is
 * not numbers. */
void request_user(struct request *req, const char *v);
/* KEY=VALUE with KEY a portable shell identifier. */
int request_valid_env(const char *s);

#endif
