/* config.c: read and parse the whitelist.
 *
 * MUST (SECURITY.md 1-7):
 * - a missing or unreadable config refuses everything;
 * - the file and every directory above it are owned by root and not
 *   writable by group or other, checked with fstat on fds opened with
 *   O_NOFOLLOW, never by name twice;
 * - any error anywhere refuses everybody with file:line, no partial policy;
 * - long lines, NUL bytes, too many rules, junk: a clean error (the parser
 *   has a fuzz target, tests/fuzz_config.c). */
#define _GNU_SOURCE
#include "config.h"
#include "core/parse.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

MD_PRINTF(3, 4) static void conf_error(struct config *cfg, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (cfg->nerrors++ > 0)
		return; /* the first error is the one to fix */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(cfg->error, sizeof cfg->error, "%s:%d: %s", cfg->file, line, msg);
}

/* Split a line into words on blanks; returns the count or -1 if too many. */
static int split_words(char *line, char **words, int max)
{
	int n = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == max)
			return -1;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return n;
}

static int copy_word(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		return -1;
	strcpy(dst, src);
	return 0;
}

/* USER or :GROUP: the names useradd accepts, nothing that could surprise. */
static int valid_subject(const char *s)
{
	if (*s == ':')
		s++;
	if (!*s || strlen(s) >= CONF_NAME_MAX - 1 || *s == '-')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static int rootfs_option(struct rule *r, const char *v)
{
	if (r->nrootfs == CONF_MAX_ROOTFS)
		return -1;
	if (strcmp(v, "~") != 0 && !valid_abs_path(v))
		return -1;
	return copy_word(r->rootfs[r->nrootfs++], sizeof r->rootfs[0], v);
}

/* bind=DIR or bind=DIR:ro: a tree the caller's --volume sources may come
 * from ("~": their home); :ro allows read-only binds only. */
static int bind_option(struct rule *r, const char *v)
{
	char dir[256];
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);

	if (r->nbinds == CONF_MAX_BINDS || n >= sizeof dir)
		return -1;
	if (colon && strcmp(colon, ":ro") != 0)
		return -1;
	memcpy(dir, v, n);
	dir[n] = '\0';
	if (strcmp(dir, "~") != 0 && (!valid_abs_path(dir) || strcmp(dir, "/") == 0))
		return -1;
	r->binds_ro[r->nbinds] = colon != NULL;
	return copy_word(r->binds[r->nbinds++], sizeof r->binds[0], dir);
}

/* nested=no|yes|force: user namespaces inside containers (SECURITY.md 45). */
static int nested_option(struct rule *r, const char *v)
{
	if (strcmp(v, "no") == 0)
		r->nested = NESTED_NO;
	else if (strcmp(v, "yes") == 0)
		r->nested = NESTED_YES;
	else if (strcmp(v, "force") == 0)
		r->nested = NESTED_FORCE;
	else
		return -1;
	return 0;
}

/* cpu-quota=CPUS: a decimal number of CPUs, 0.01 to 1024. */
static int cpu_quota_option(struct rule *r, const char *v)
{
	return parse_milli(v, 1024000, &r->cpu_quota) < 0 || r->cpu_quota < 10 ? -1 : 0;
}

/* io=yes|no: may containers get I/O limits (--device-read-bps ...)? */
static int io_option(struct rule *r, const char *v)
{
	r->io = strcmp(v, "yes") == 0;
	return r->io || strcmp(v, "no") == 0 ? 0 : -1;
}

/* One KEY=VALUE of a rule; *seen guards against saying a key twice. */
static int rule_option(struct rule *r, const char *key, const char *v, unsigned *seen)
{
	static const char *const keys[] = { "memory", "swap", "cpus", "pids",
		"containers", "ip", "bridge", "rootfs", "userns", "nested", "bind",
		"cpu-quota", "io" };
	unsigned i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(key, keys[i]) == 0)
			break;
	if (i == sizeof keys / sizeof keys[0])
		return -2;
	if (i != 7 && i != 10 && (*seen & (1u << i)))
		return -3;
	*seen |= 1u << i;
	switch (i) {
	case 0: return parse_size(v, &r->memory) < 0 || r->memory == 0 ? -1 : 0;
	case 1: return parse_size(v, &r->swap) < 0 ? -1 : 0;
	case 2: r->has_cpus = 1; return parse_cpulist(v, r->cpus);
	case 3: return parse_u64(v, 4194304, &r->pids) < 0 || r->pids == 0 ? -1 : 0;
	case 4: return parse_u64(v, 1000, &r->containers);
	case 5: r->has_ip = 1; return parse_cidr(v, &r->ip, &r->ip_prefix);
	case 6: return valid_dns_label(v, 15) ? copy_word(r->bridge, sizeof r->bridge, v) : -1;
	case 7: return rootfs_option(r, v);
	case 8: r->userns_host = 1; return strcmp(v, "host") == 0 ? 0 : -1;
	case 9: return nested_option(r, v);
	case 10: return bind_option(r, v);
	case 11: return cpu_quota_option(r, v);
	case 12: return io_option(r, v);
	default: return -2;
	}
}

static int grow_rules(struct config *cfg)
{
	struct rule *more;
	int cap = cfg->cap ? cfg->cap * 2 : 16;

	if (cfg->nrules < cfg->cap)
		return 0;
	more = realloc(cfg->rules, (size_t)cap * sizeof *more);
	if (!more)
		return -1;
	cfg->rules = more;
	cfg->cap = cap;
	return 0;
}

static int parse_rule(struct config *cfg, int line, char **w, int n)
{
	struct rule *r;
	unsigned seen = 0;

	if (n < 2)
		return conf_error(cfg, line, "%s needs a user or :group", w[0]), -1;
	if (!valid_subject(w[1]))
		return conf_error(cfg, line, "bad user or group name"), -1;
	if (cfg->nrules == CONF_MAX_RULES)
		return conf_error(cfg, line, "too many rules (at most %d)", CONF_MAX_RULES), -1;
	if (grow_rules(cfg) < 0)
		return conf_error(cfg, line, "out of memory"), -1;
	r = &cfg->rules[cfg->nrules];
	memset(r, 0, sizeof *r);
	r->line = line;
	r->permit = w[0][0] == 'p';
	r->is_group = w[1][0] == ':';
	copy_word(r->subject, sizeof r->subject, w[1] + r->is_group);
	for (int i = 2; i < n; i++) {
		char *eq = strchr(w[i], '=');
		int rc;

		if (!eq)
			return conf_error(cfg, line, "expected KEY=VALUE: %.64s", w[i]), -1;
		*eq = '\0';
		rc = rule_option(r, w[i], eq + 1, &seen);
		if (rc == -2)
			return conf_error(cfg, line, "unknown option: %.64s", w[i]), -1;
		if (rc == -3)
			return conf_error(cfg, line, "%s given twice", w[i]), -1;
		if (rc < 0)
			return conf_error(cfg, line, "bad %s: %.64s", w[i], eq + 1), -1;
	}
	cfg->nrules++;
	return 0;
}

static int parse_bridge(struct config *cfg, int line, char **w, int n)
{
	if (n != 3 || !valid_dns_label(w[1], 15) ||
	    parse_cidr(w[2], &cfg->gateway, &cfg->gateway_prefix) < 0)
		return conf_error(cfg, line, "expected: bridge NAME ADDR/PREFIX"), -1;
	if (cfg->has_bridge)
		return conf_error(cfg, line, "bridge given twice"), -1;
	copy_word(cfg->bridge, sizeof cfg->bridge, w[1]);
	cfg->has_bridge = 1;
	return 0;
}

static int parse_line(struct config *cfg, int line, char *text)
{
	char *w[CONF_MAX_ROOTFS + 16];
	int n;

	if (strchr(text, '#'))
		*strchr(text, '#') = '\0';
	n = split_words(text, w, (int)(sizeof w / sizeof w[0]));
	if (n < 0)
		return conf_error(cfg, line, "too many words"), -1;
	if (n == 0)
		return 0;
	if (strcmp(w[0], "permit") == 0 || strcmp(w[0], "deny") == 0)
		return parse_rule(cfg, line, w, n);
	if (strcmp(w[0], "bridge") == 0)
		return parse_bridge(cfg, line, w, n);
	return conf_error(cfg, line, "unknown keyword: %.64s", w[0]), -1;
}

int config_parse(struct config *cfg, const char *file, const char *text, size_t len)
{
	char buf[CONF_MAX_LINE + 1];
	int line = 0;

	memset(cfg, 0, sizeof *cfg);
	cfg->file = file;
	if (len > CONF_MAX_BYTES)
		return conf_error(cfg, 0, "file too large"), -1;
	for (size_t pos = 0; pos < len && !cfg->nerrors;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		line++;
		if (n > CONF_MAX_LINE)
			conf_error(cfg, line, "line too long");
		else if (memchr(text + pos, '\0', n))
			conf_error(cfg, line, "NUL byte");
		else {
			memcpy(buf, text + pos, n);
			buf[n] = '\0';
			parse_line(cfg, line, buf);
		}
		pos += n + 1;
	}
	if (cfg->nerrors) {
		cfg->nrules = 0; /* no partial policy */
		return -1;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	free(cfg->rules);
	cfg->rules = NULL;
	cfg->nrules = cfg->cap = 0;
}

void config_load(struct config *cfg, const char *path)
{
	char *text;
	AUTOCLOSE int fd = open_trusted(path, O_RDONLY | O_NOCTTY,
					"cannot open the configuration (everything is refused)");
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die("%s is not a regular file", path);
	if (st.st_size > CONF_MAX_BYTES)
		die("%s: file too large", path);
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		die("out of memory");
	n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size)
		die_errno("%s: read failed", path);
	if (config_parse(cfg, path, text, (size_t)n) < 0)
		die("%s", cfg->error);
	free(text);
}
