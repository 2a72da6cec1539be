#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* the parent becomes ps, the child grep: ps ends first and grep is left an orphan */
int main(void)
{
    int p[2];
    if (pipe(p) == -1) { perror("pipe"); exit(1); }
    if (fork() == 0) {
        dup2(p[0], 0); close(p[0]); close(p[1]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        perror("execlp grep"); _exit(127);
    }
    dup2(p[1], 1); close(p[0]); close(p[1]);
    execlp("ps", "ps", "-ef", (char *)NULL);
    perror("execlp ps");
    return 127;
}
