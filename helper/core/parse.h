/* parse.h: strict parsers for everything a caller or the config can say.
 *
 * MUST: every parser rejects what it does not fully understand: signs,
 * spaces, empty strings, trailing junk, exponent forms and overflow
 * (CVE-2019-15901: doas read "1e9" style input loosely). */
#ifndef MD_PARSE_H
#define MD_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal digits only, no sign, value <= max. 0 on success, -1 otherwise. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);
/* A size: digits with an optional k/K, m/M, g/G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *out);
/* Print bytes back the way a person wrote them: 512M, 2G, 1536K, 100. */
void format_size(uint64_t bytes, char *buf, size_t size);
/* A decimal number of thousandths ("0.5" is 500, "2" 2000): digits, then
 * at most three after one '.', value <= max thousandths (CPU quotas). */
int parse_milli(const char *s, uint64_t max, uint64_t *out);
/* And back, with no trailing zeros: 500 is "0.5", 2000 "2". */
void format_milli(uint64_t milli, char *buf, size_t size);

/* A CPU list as in cpuset files: "0-3,6", ascending ranges, CPUs < 1024. */
int parse_cpulist(const char *s, uint64_t mask[16]);
/* Write a mask back as a list ("0-3,6"); -1 if it does not fit. */
int format_cpulist(const uint64_t mask[16], char *buf, size_t size);
/* How many CPUs a mask holds. */
unsigned cpumask_count(const uint64_t mask[16]);

/* [a-z0-9][a-z0-9-]*, at most max characters (hostnames 63, links 15). */
int valid_dns_label(const char *s, size_t max);
/* Container names: [a-z0-9][a-z0-9_.-]{0,62}. */
int valid_name(const char *s);
/* An IPv4 address in dotted decimal, no leading zeros; host byte order. */
int parse_ipv4(const char *s, uint32_t *addr);
/* ADDR/PREFIX with PREFIX 0-32. */
int parse_cidr(const char *s, uint32_t *addr, unsigned *prefix);

/* An absolute path with no empty, "." or ".." component and no trailing
 * slash ("/" alone allowed): a path that means what it says. */
int valid_abs_path(const char *s);
/* Is path equal to dir or below it, comparing whole components
 * (/srv/labs does not admit /srv/labs2; CVE-2026-48785)? */
int path_within(const char *path, const char *dir);

#endif
