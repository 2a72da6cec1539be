/*
 * forkmap N -- MISTAKE: the anonymous page is mapped with MAP_PRIVATE.
 *
 * After fork, a private mapping is copy-on-write: the child's first write
 * gives it its own copy of the page, so the parent's counter stays 0 and
 * it prints "counter = 0" (the memory map shows the page as "p", not "s").
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
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
    /* an anonymous page for the counter */
    counter = mmap(NULL, pagesize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
    /* parent: wait until the child is done, then read the counter */
    if (waitpid(pid, NULL, 0) == -1) {
        perror("waitpid failed");
        exit(1);
    }
    printf("counter = %d\n", *counter);
    munmap(counter, pagesize);
    exit(0);
}
