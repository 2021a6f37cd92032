/* dl.h — the one loader of libraries that most terminals never need (libnftables, librpm): dlopen()ed on first use. */
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

/* DL_LOAD(var, FUNCS, libs, err, err_size): dl_load() of the functions the
 * X-macro list FUNCS names into var, a struct of their typed pointers in
 * the same order (declared with FUNCS(DL_FIELD)); 0 or dl_load()'s error,
 * var untouched then. The one way every loader of sekisho fills its table. */
#define DL_FIELD(f) __typeof__(&f) f;
#define DL_NAME_(f) #f,
#define DL_FILL_(f) dl_var_->f = (__typeof__(dl_var_->f))dl_addr_[dl_i_++];
#define DL_LOAD(var, FUNCS, libs, err, err_size)                                                                \
        __extension__({                                                                                         \
                static const char *const dl_names_[] = { FUNCS(DL_NAME_) NULL };                                \
                void *dl_addr_[sizeof dl_names_ / sizeof dl_names_[0] - 1];                                     \
                int dl_r_ = dl_load(libs, dl_names_, dl_addr_, err, err_size);                                  \
                if (dl_r_ >= 0) {                                                                               \
                        __typeof__(var) *dl_var_ = &(var);                                                      \
                        size_t dl_i_ = 0;                                                                       \
                        FUNCS(DL_FILL_)                                                                         \
                }                                                                                               \
                dl_r_;                                                                                          \
        })
