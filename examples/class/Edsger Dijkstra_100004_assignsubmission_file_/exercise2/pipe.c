/*
 * pipe -- CORRECT, in a different design.
 *
 * The parent forks two children and stays alive: the first becomes ps
 * (redirected the old way, close(1) then dup(p[1]) takes the lowest free
 * descriptor, i.e. 1), the second becomes grep (with dup2). Everybody
 * closes both original pipe descriptors, and the parent waits for both
 * children and returns grep's exit status, like the shell does.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int p[2];
    int st;
    pid_t ps, grep;

    if (pipe(p) < 0) {
        perror("pipe");
        return 1;
    }

    ps = fork();
    if (ps < 0) {
        perror("fork");
        return 1;
    }
    if (ps == 0) {
        char *args[] = { "ps", "-ef", NULL };
        close(1);
        if (dup(p[1]) != 1) {   /* lowest free descriptor is 1 */
            perror("dup");
            _exit(127);
        }
        close(p[0]);
        close(p[1]);
        execvp(args[0], args);
        perror("execvp ps");
        _exit(127);
    }

    grep = fork();
    if (grep < 0) {
        perror("fork");
        return 1;
    }
    if (grep == 0) {
        char *args[] = { "grep", "firefox", NULL };
        if (dup2(p[0], 0) < 0) {
            perror("dup2");
            _exit(127);
        }
        close(p[0]);
        close(p[1]);
        execvp(args[0], args);
        perror("execvp grep");
        _exit(127);
    }

    /* the parent uses neither end */
    close(p[0]);
    close(p[1]);

    if (waitpid(ps, NULL, 0) < 0)
        perror("waitpid ps");
    if (waitpid(grep, &st, 0) < 0) {
        perror("waitpid grep");
        return 1;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}
