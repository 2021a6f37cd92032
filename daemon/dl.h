/* dl.h — the one loader of libraries that most terminals never need (libnl, libnftables, librpm): dlopen()ed on first use. */
#pragma once

#include <stddef.h>

/* dlopen libs (NULL-terminated, by soname) and look up names
 * (NULL-terminated) into ret_addrs; -ELIBACC (a library does not load) or
 * -ELIBBAD (a function is missing) with err naming it. What loaded stays
 * loaded for the process's life, unless dl_unload()ed. */
int dl_load(const char *const *libs, const char *const *names, void **ret_addrs, char *err, size_t err_size);

/* Unload libs again (what dl_load loaded, used once): for a library needed
 * only while starting. Nothing loaded from them may be used after. */
void dl_unload(const char *const *libs);
