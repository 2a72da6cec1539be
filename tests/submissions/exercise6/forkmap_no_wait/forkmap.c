/*
 * forkmap N -- MISTAKE: the parent never waits for the child.
 *
 * The page is shared, but the parent reads the counter right after fork,
 * while the child is still counting (or has not even started): it prints
 * whatever value the counter has at that moment, usually 0 or a part of
 * N, and the child is never waited for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    long pagesize = sysconf(_SC_PAGESIZE);
    int *counter;
    pid_t pid;
    int i, n;

    if (argc != 2) {
        printf("usage: forkmap N\n");
        exit(1);
    }
    n = atoi(argv[1]);
    /* an anonymous page, shared with the child we are about to fork */
    counter = mmap(NULL, pagesize, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counter == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    *counter = 0;
    if ((pid = fork()) < 0) {
        perror("fork failed");
        exit(1);
    }
    if (pid == 0) {
        /* child: count to N */
        for (i = 0; i < n; i++)
            (*counter)++;
        _exit(0);
    }
    /* parent: read the counter */
    printf("counter = %d\n", *counter);
    munmap(counter, pagesize);
    exit(0);
}
