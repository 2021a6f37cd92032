/* vdi-proc.h — reading a freshly exec'd process (exe, argv, files it names) and deciding whether it may run. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "rdpcheck.h"
#include "vdi-caps.h"
#include "vdi-policy.h"

#define VDI_MAX_CMDLINE (256u * 1024u)

struct vdi_proc {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        char exe_base[NAME_MAX + 1];   /* basename of /proc/PID/exe, " (deleted)" stripped */
        char argv0_base[NAME_MAX + 1]; /* basename of argv[0] */
        char *argbuf;
        char **argv;
        size_t argc;
        bool cmdline_too_long;
        char injected[32];             /* "LD_PRELOAD" etc. if the loader was told to inject code */
        int proc_fd;                   /* /proc/PID directory */
};

/* Reads what identifies the process. -ESRCH: it is gone already; -ENOEXEC: it has no executable (kernel thread). */
int vdi_proc_read(const char *proc_root, pid_t pid, struct vdi_proc *ret);
void vdi_proc_done(struct vdi_proc *p);

/* The known client the process is (by exe basename, else argv[0] basename), or NULL. */
const struct vdi_client_info *vdi_proc_client(const struct vdi_proc *p);

/* rdp_read_fn for a process: resolves the path in the process's root and
 * working directory, without following a symlink out of its root; only a
 * regular file the process's user may read. */
int vdi_proc_read_file(void *userdata, const char *path, size_t max, char **ret_data, size_t *ret_size);

struct vdi_decision {
        bool kill;
        int res;                 /* enum vdi_res, RDP_RES_DOUBT, or -1 for allow-clients */
        const char *clause;
        char option[96];
        char reason[192];
};

void vdi_decide(const struct vdi_policy *pol, const struct vdi_client_info *c, struct vdi_proc *p,
                struct vdi_decision *ret);
