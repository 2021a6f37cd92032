/* factory-init.c — /sbin/init of the test's restore image (tests/reset): says which image the initramfs switched to, then powers off. Built static by run.sh; never installed. */
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void) {
        char image[64] = "unreadable";
        FILE *f = fopen("/etc/sekisho-image", "re");
        if (f) {
                if (fgets(image, sizeof image, f))
                        image[strcspn(image, "\n")] = 0;
                fclose(f);
        }
        printf("RESET-BOOTED image=%s\n", image);
        fflush(stdout);
        sync();
        reboot(RB_POWER_OFF);
        return 1;
}
