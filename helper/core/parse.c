/* parse.c: strict parsers (see parse.h for the rules they enforce). */
#include "core/parse.h"

#include <stdio.h>
#include <string.h>

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char digits[32];
	size_t len = s ? strlen(s) : 0;
	unsigned shift = 0;
	uint64_t v;

	if (len == 0 || len >= sizeof digits)
		return -1;
	switch (s[len - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	default: break;
	}
	memcpy(digits, s, len + 1);
	if (shift)
		digits[--len] = '\0';
	if (parse_u64(digits, UINT64_MAX >> shift, &v) < 0)
		return -1;
	*out = v << shift;
	return 0;
}

void format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "GMK";
	unsigned shift = 30;

	for (const char *u = units; *u; u++, shift -= 10) {
		if (bytes && bytes % (1ULL << shift) == 0) {
			snprintf(buf, size, "%llu%c", (unsigned long long)(bytes >> shift), *u);
			return;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

int parse_milli(const char *s, uint64_t max, uint64_t *out)
{
	char whole[16];
	const char *dot = s ? strchr(s, '.') : NULL;
	size_t n = dot ? (size_t)(dot - s) : (s ? strlen(s) : 0);
	uint64_t v, frac = 0;

	if (!s || n == 0 || n >= sizeof whole)
		return -1;
	memcpy(whole, s, n);
	whole[n] = '\0';
	if (parse_u64(whole, max / 1000, &v) < 0)
		return -1;
	v *= 1000;
	if (dot) {
		size_t i, digits = strlen(dot + 1);
		if (digits == 0 || digits > 3)
			return -1;
		for (i = 0; i < 3; i++) {
			char ch = i < digits ? dot[1 + i] : '0';
			if (ch < '0' || ch > '9')
				return -1;
			frac = frac * 10 + (uint64_t)(ch - '0');
		}
	}
	if (v + frac > max)
		return -1;
	*out = v + frac;
	return 0;
}

void format_milli(uint64_t milli, char *buf, size_t size)
{
	char frac[8];
	size_t n;

	snprintf(frac, sizeof frac, "%03u", (unsigned)(milli % 1000));
	for (n = 3; n > 0 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(buf, size, "%llu%s%s", (unsigned long long)(milli / 1000), n ? "." : "", frac);
}

/* One number of a CPU list; advances *s past it. */
static int cpu_number(const char **s, unsigned *cpu)
{
	unsigned v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v >= 1024)
			return -1;
	}
	*s = p;
	*cpu = v;
	return 0;
}

int parse_cpulist(const char *s, uint64_t mask[16])
{
	long last = -1;

	memset(mask, 0, 16 * sizeof mask[0]);
	if (!s || !*s)
		return -1;
	for (;;) {
		unsigned lo, hi;

		if (cpu_number(&s, &lo) < 0)
			return -1;
		hi = lo;
		if (*s == '-') {
			s++;
			if (cpu_number(&s, &hi) < 0 || hi < lo)
				return -1;
		}
		if ((long)lo <= last)
			return -1; /* ascending, no overlap: one way to say each list */
		for (unsigned c = lo; c <= hi; c++)
			mask[c / 64] |= 1ULL << (c % 64);
		last = hi;
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

static int cpu_set(const uint64_t mask[16], unsigned c)
{
	return c < 1024 && (mask[c / 64] >> (c % 64)) & 1;
}

int format_cpulist(const uint64_t mask[16], char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned c = 0; c < 1024; c++) {
		unsigned end = c;
		int w;

		if (!cpu_set(mask, c))
			continue;
		while (cpu_set(mask, end + 1))
			end++;
		w = end > c ? snprintf(buf + n, size - n, "%s%u-%u", n ? "," : "", c, end)
			    : snprintf(buf + n, size - n, "%s%u", n ? "," : "", c);
		if (w < 0 || (size_t)w >= size - n)
			return -1;
		n += (size_t)w;
		c = end;
	}
	return 0;
}

unsigned cpumask_count(const uint64_t mask[16])
{
	unsigned n = 0;

	for (int i = 0; i < 16; i++)
		n += (unsigned)__builtin_popcountll(mask[i]);
	return n;
}

int valid_dns_label(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return n <= max;
}

int valid_name(const char *s)
{
	size_t n = 0;

	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return n <= 63;
}

int parse_ipv4(const char *s, uint32_t *addr)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		char part[4];
		size_t n = 0;
		uint64_t v;

		while (s[n] >= '0' && s[n] <= '9' && n < 4)
			n++;
		if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
			return -1;
		memcpy(part, s, n);
		part[n] = '\0';
		if (parse_u64(part, 255, &v) < 0)
			return -1;
		a = a << 8 | (uint32_t)v;
		s += n;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*addr = a;
	return 0;
}

int parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	uint64_t p;

	if (!slash || (size_t)(slash - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (parse_ipv4(buf, addr) < 0 || strlen(slash + 1) > 2 ||
	    (slash[1] == '0' && slash[2]) || parse_u64(slash + 1, 32, &p) < 0)
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

int valid_abs_path(const char *s)
{
	if (!s || s[0] != '/')
		return 0;
	if (s[1] == '\0')
		return 1;
	for (const char *c = s; *c;) {
		const char *next;
		size_t len;

		c++; /* skip the slash */
		next = strchr(c, '/');
		len = next ? (size_t)(next - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += len;
	}
	return strlen(s) < 4096;
}

int path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
