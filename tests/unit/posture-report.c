/* posture-report.c — a stand-alone `sekishoctl posture` for tests and demos until the verb is wired into sekishoctl. */
#include "config.h"

#include "posturectl.h"
#include "util.h"

int main(int argc, char *argv[]) {
        log_setup("posture-report", false);
        return posture_ctl_main(argc, argv, NULL, NULL, stdout, stderr);
}
