/* request.c: parse the arguments of `mdhelper run`.
 *
 * The helper's argv is written by mdrun.sh, but anybody can call the helper
 * with anything: every value is checked here against a fixed pattern and a
 * length, and anything else is refused, never escaped (SECURITY.md 6, 10). */
#define _GNU_SOURCE
#include "core/request.h"
#include "core/parse.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const char request_usage[] =
	"usage: mdhelper run --rootfs DIR [--hostname NAME] [--name NAME] "
	"[--workdir DIR] [--env KEY=VALUE]... [--userns private|host] [--net none|bridge] [--ip ADDR] "
	"[--memory BYTES] [--memory-swap BYTES] [--cpus N] [--cpuset-cpus LIST] "
	"[--pids-limit N] [--detach LOGDIR] [--volume SRC:DST[:ro|:rw]]... "
	"[--layer auto|read-only|ephemeral] [--user UID[:GID]] [--init] "
	"[--cpu-quota CPUS] [--device-read-bps DEV:RATE]... [--device-write-bps DEV:RATE]... "
	"-- COMMAND [ARG]...";

/* KEY=VALUE with KEY a portable shell identifier. */
int request_valid_env(const char *s)
{
	const char *eq = strchr(s, '=');

	if (!eq || eq == s || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (const char *c = s; c < eq; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return 0;
	return 1;
}

static uint64_t number_option(const char *opt, const char *v, uint64_t max)
{
	uint64_t n;

	if (parse_u64(v, max, &n) < 0 || n == 0)
		die("%s: not a valid number: %s", opt, v);
	return n;
}

/* Where a bind may not go: the root itself, and the file systems the
 * helper mounts (/proc, /sys, /dev: masks, devpts, the init) whose
 * confinement a bind over them would undo (SECURITY.md 46, issue 16). */
static int reserved_destination(const char *dst)
{
	static const char *const reserved[] = { "/proc", "/sys", "/dev" };

	if (strcmp(dst, "/") == 0)
		return 1;
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
		size_t n = strlen(reserved[i]);
		if (strncmp(dst, reserved[i], n) == 0 && (dst[n] == '\0' || dst[n] == '/'))
			return 1;
	}
	return 0;
}

/* SRC:DST[:ro|:rw], split in a copy of its own; paths hold no ':' (as
 * Docker's -v). */
static void bind_option(struct request *req, const char *v)
{
	struct bind_request *b;
	char *copy, *dst, *mode;

	if (req->nbinds == REQ_MAX_BINDS)
		die("too many --volume options (at most %d)", REQ_MAX_BINDS);
	copy = strdup(v);
	if (!copy)
		die("out of memory");
	dst = strchr(copy, ':');
	mode = dst ? strchr(dst + 1, ':') : NULL;
	if (!dst)
		die("--volume %s: expected SRC:DST[:ro]", v);
	*dst++ = '\0';
	if (mode)
		*mode++ = '\0';
	if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		die("--volume %s: the mode must be ro or rw", v);
	if (!valid_abs_path(copy) || strcmp(copy, "/") == 0)
		die("--volume %s: the source must be an absolute path without . or .. components, not /", v);
	if (!valid_abs_path(dst))
		die("--volume %s: the destination must be an absolute path without . or .. components", v);
	if (reserved_destination(dst))
		die("--volume %s: %s cannot be a destination (/, /proc, /sys and /dev are minidocker's)", v, dst);
	for (int i = 0; i < req->nbinds; i++)
		if (strcmp(req->binds[i].dst, dst) == 0)
			die("--volume %s: %s is already a destination", v, dst);
	b = &req->binds[req->nbinds++];
	b->src = copy;
	b->dst = dst;
	b->read_only = mode && strcmp(mode, "ro") == 0;
}

static enum layer_mode layer_option(const char *v)
{
	if (!strcmp(v, "auto"))
		return LAYER_AUTO;
	if (!strcmp(v, "read-only"))
		return LAYER_READ_ONLY;
	if (!strcmp(v, "ephemeral"))
		return LAYER_EPHEMERAL;
	die("--layer must be auto, read-only or ephemeral: %s", v);
}

/* --user UID[:GID]: numbers only (names would mean reading the rootfs's
 * /etc/passwd, a file of the caller's); GID 0 when not given, as Docker
 * for a uid without an entry in the image's passwd. Whether the ids are
 * mapped is ids.c's to say, once the subordinate ranges are read. */
void request_user(struct request *req, const char *v)
{
	char uid[16];
	const char *colon = strchr(v, ':');
	size_t len = colon ? (size_t)(colon - v) : strlen(v);
	uint64_t u, g = 0;

	if (len >= sizeof uid)
		die("--user: not a uid[:gid] of numbers: %s", v);
	memcpy(uid, v, len);
	uid[len] = '\0';
	if (parse_u64(uid, 0xfffffffeU, &u) < 0 ||
	    (colon && parse_u64(colon + 1, 0xfffffffeU, &g) < 0))
		die("--user: not a uid[:gid] of numbers: %s", v);
	req->user = v;
	req->uid = (uid_t)u;
	req->gid = (gid_t)g;
}

/* --cpu-quota CPUS: a decimal number of CPUs, e.g. 0.5 or 2. */
static unsigned cpu_quota_option(const char *v)
{
	uint64_t milli;

	if (parse_milli(v, 1024000, &milli) < 0 || milli < 10)
		die("--cpu-quota: not a number of CPUs from 0.01 to 1024: %s (e.g. 0.5 or 2)", v);
	return (unsigned)milli;
}

/* A rate as Docker writes it: digits with an optional k, m or g (powers of
 * 1024), optionally followed by b ("10M", "1mb", "512k"). */
static int parse_rate(const char *s, uint64_t *out)
{
	char copy[32];
	size_t n = strlen(s);

	if (n >= sizeof copy)
		return -1;
	memcpy(copy, s, n + 1);
	if (n >= 2 && strchr("bB", copy[n - 1]) && strchr("kKmMgG", copy[n - 2]))
		copy[n - 1] = '\0';
	return parse_size(copy, out) < 0 || *out == 0 ? -1 : 0;
}

/* --device-read-bps / --device-write-bps DEV:RATE, Docker's syntax. DEV is
 * split at the last ':' (a /dev/disk/by-path name holds some) and must be
 * a path under /dev; core/limits.c resolves it, as the caller. */
static void io_option(struct request *req, const char *opt, const char *v)
{
	const char *colon = strrchr(v, ':');
	struct req_io *io;

	if (req->nio == REQ_MAX_IO)
		die("too many --device-read-bps and --device-write-bps options (at most %d)",
		    REQ_MAX_IO);
	io = &req->io[req->nio];
	if (!colon || (size_t)(colon - v) >= sizeof io->path)
		die("%s: expected DEVICE:RATE, e.g. /dev/vda:10M: %s", opt, v);
	xsnprintf(io->path, sizeof io->path, "%.*s", (int)(colon - v), v);
	if (strncmp(io->path, "/dev/", 5) != 0 || !valid_abs_path(io->path))
		die("%s: the device must be a path under /dev without . or .. components: %s", opt,
		    io->path);
	if (parse_rate(colon + 1, &io->bps) < 0)
		die("%s: not a rate: %s (bytes per second with an optional k, M or G, e.g. 10M)",
		    opt, colon + 1);
	io->write = !strcmp(opt, "--device-write-bps");
	req->nio++;
}

/* One option and its value; returns how many argv words it used. */
static int option(struct request *req, const char *opt, const char *v)
{
	if (!v)
		die("%s needs a value", opt);
	if (!strcmp(opt, "--rootfs")) {
		if (!valid_abs_path(v))
			die("rootfs must be an absolute path without . or .. components: %s", v);
		if (strcmp(v, "/") == 0)
			die("rootfs /: the host's root cannot be a container's root");
		req->rootfs = v;
	} else if (!strcmp(opt, "--hostname")) {
		if (!valid_dns_label(v, 63))
			die("invalid hostname: %s (a-z, 0-9 and -, at most 63 characters)", v);
		req->hostname = v;
	} else if (!strcmp(opt, "--name")) {
		if (!valid_name(v))
			die("invalid name: %s (a-z, 0-9, _ . -, at most 63 characters)", v);
		req->name = v;
	} else if (!strcmp(opt, "--detach")) {
		if (!valid_abs_path(v))
			die("--detach needs an absolute log directory without . or .. components: %s", v);
		req->log_dir = v;
	} else if (!strcmp(opt, "--workdir")) {
		if (!valid_abs_path(v))
			die("workdir must be an absolute path without . or .. components: %s", v);
		req->workdir = v;
	} else if (!strcmp(opt, "--env")) {
		if (!request_valid_env(v))
			die("invalid environment variable: %s (KEY=VALUE)", v);
		if (req->nenv == REQ_MAX_ENV)
			die("too many --env options (at most %d)", REQ_MAX_ENV);
		req->env[req->nenv++] = v;
	} else if (!strcmp(opt, "--userns")) {
		if (strcmp(v, "private") && strcmp(v, "host"))
			die("--userns must be private or host: %s", v);
		req->userns_host = !strcmp(v, "host");
	} else if (!strcmp(opt, "--net")) {
		if (strcmp(v, "none") && strcmp(v, "bridge"))
			die("--net must be none or bridge: %s", v);
		req->net_none = !strcmp(v, "none");
		req->net_bridge = !req->net_none;
	} else if (!strcmp(opt, "--ip")) {
		uint32_t a;
		if (parse_ipv4(v, &a) < 0)
			die("not an IPv4 address: %s", v);
		req->ip = v;
	} else if (!strcmp(opt, "--memory")) {
		req->memory = number_option(opt, v, UINT64_MAX / 2);
	} else if (!strcmp(opt, "--memory-swap")) {
		req->memory_swap = number_option(opt, v, UINT64_MAX / 2);
	} else if (!strcmp(opt, "--pids-limit")) {
		req->pids = number_option(opt, v, 4194304);
	} else if (!strcmp(opt, "--cpus")) {
		req->cpus = (unsigned)number_option(opt, v, 1024);
	} else if (!strcmp(opt, "--cpu-quota")) {
		req->cpu_quota = cpu_quota_option(v);
	} else if (!strcmp(opt, "--device-read-bps") || !strcmp(opt, "--device-write-bps")) {
		io_option(req, opt, v);
	} else if (!strcmp(opt, "--cpuset-cpus")) {
		uint64_t mask[16];
		if (parse_cpulist(v, mask) < 0)
			die("--cpuset-cpus: not a valid CPU list: %s", v);
		req->cpuset = v;
	} else if (!strcmp(opt, "--volume")) {
		bind_option(req, v);
	} else if (!strcmp(opt, "--layer")) {
		req->layer = layer_option(v);
	} else if (!strcmp(opt, "--user")) {
		request_user(req, v);
	} else {
		die("unknown option: %s", opt);
	}
	return 2;
}

void request_parse(struct request *req, int argc, char **argv)
{
	int i = 0;

	memset(req, 0, sizeof *req);
	req->hostname = "administrator";
	req->workdir = "/";
	while (i < argc && strcmp(argv[i], "--") != 0) {
		if (strncmp(argv[i], "--", 2) != 0)
			die("expected an option or --, got: %s", argv[i]);
		if (!strcmp(argv[i], "--init")) { /* the one option without a value */
			req->init = 1;
			i++;
			continue;
		}
		i += option(req, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
	}
	if (i >= argc || i + 1 == argc)
		die("no command given");
	if (!req->rootfs)
		die("--rootfs is required");
	if (req->memory_swap && req->memory_swap < req->memory)
		die("--memory-swap must be at least --memory");
	if (req->net_none && req->ip)
		die("--ip cannot be used with --net none");
	if (req->user && req->userns_host)
		die("--user cannot be used with --userns host");
	if (req->cpus && req->cpuset)
		die("--cpus and --cpuset-cpus cannot be used together");
	req->argv = &argv[i + 1];
}
