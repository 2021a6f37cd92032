/* usbwho.c — reads the active seat's user and this terminal's names for the register's "for:". */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usbwho.h"
#include "util.h"

/* "ACTIVE_UID=1000" in logind's seat file; -ENOENT if nobody is active. */
static int seat_uid(const char *root, uid_t *ret) {
        _cleanup_free_ char *path = path_join(root, "run/systemd/seats/seat0"), *data = NULL;
        size_t size;
        if (!path)
                return -ENOMEM;
        int r = read_file_capped(path, 64 << 10, &data, &size);
        if (r < 0)
                return r;
        for (char *line = data; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                uint64_t v;
                if (strncmp(line, "ACTIVE_UID=", 11) == 0 && parse_u64(line + 11, &v) == 0 && v < (uid_t)-1) {
                        *ret = (uid_t)v;
                        return 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

void usb_who_done(struct usb_who_buf *w) {
        for (size_t i = 0; w->groups[i]; i++)
                free(w->groups[i]);
        *w = (struct usb_who_buf){ 0 };
}

int usb_who_read(struct usb_who_buf *w, const char *root) {
        *w = (struct usb_who_buf){ 0 };
        w->who.now = now_unix();
        size_t nt = 0;
        _cleanup_free_ char *mid_path = path_join(root, "etc/machine-id"), *mid = NULL;
        size_t len;
        if (!mid_path)
                return -ENOMEM;
        if (read_file_capped(mid_path, sizeof w->machine_id - 1, &mid, &len) == 0) {
                mid[strcspn(mid, "\n")] = '\0';
                if (mid[0]) {
                        snprintf(w->machine_id, sizeof w->machine_id, "%s", mid);
                        w->terminals[nt++] = w->machine_id;
                }
        }
        if (gethostname(w->host, sizeof w->host - 1) == 0 && w->host[0])
                w->terminals[nt++] = w->host;
        w->who.terminals = w->terminals;
        w->who.groups = w->groups;
        uid_t uid;
        if (seat_uid(root, &uid) < 0)
                return 0;
        struct passwd pw, *pwp = NULL;
        char buf[4096];
        if (getpwuid_r(uid, &pw, buf, sizeof buf, &pwp) != 0 || !pwp || strlen(pw.pw_name) >= sizeof w->user)
                return 0;
        snprintf(w->user, sizeof w->user, "%s", pw.pw_name);
        w->who.user = w->user;
        gid_t gids[64];
        int ng = 64;
        if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &ng) < 0)
                ng = 64; /* more than 64: the first 64 */
        size_t k = 0;
        for (int i = 0; i < ng && k < 64; i++) {
                struct group gr, *grp = NULL;
                if (getgrgid_r(gids[i], &gr, buf, sizeof buf, &grp) != 0 || !grp)
                        continue;
                if (!(w->groups[k] = strdup(gr.gr_name))) {
                        usb_who_done(w);
                        return -ENOMEM;
                }
                k++;
        }
        return 0;
}
