/* dpkgver.h — Debian version strings parsed and ordered exactly as dpkg does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Longest version string we accept; dpkg has no limit, hostile input gets one. */
#define DPKGVER_MAX 256

struct dpkgver {
        unsigned epoch;
        char version[DPKGVER_MAX + 1];   /* upstream part */
        char revision[DPKGVER_MAX + 1];  /* Debian revision, "" if none */
};

/* Parse like dpkg's parseversion(). Returns 0 on success, 1 if dpkg would
 * accept it with a warning (bad syntax it still compares: e.g. a version
 * that does not start with a digit), or -EINVAL where dpkg refuses the
 * string (empty, embedded spaces, bad epoch, empty revision, ...) and
 * -E2BIG when it is longer than DPKGVER_MAX. why (may be NULL) gets the
 * reason in dpkg's words. */
int dpkgver_parse(const char *s, struct dpkgver *ret, const char **why);

/* Order two parsed versions: <0, 0, >0 (dpkg_version_compare()). */
int dpkgver_cmp(const struct dpkgver *a, const struct dpkgver *b);

/* Parse and compare two strings; *ret gets <0, 0 or >0. Returns -EINVAL
 * (or -E2BIG) if either string is one dpkg --compare-versions refuses. */
int dpkgver_compare_str(const char *a, const char *b, int *ret);
