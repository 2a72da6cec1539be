/*
 * forkmap N -- a child counts to N in a page shared with its parent.
 *
 * Reference solution: an anonymous mapping (no file, fd -1) made with
 * MAP_SHARED | MAP_ANONYMOUS before fork is shared by the parent and the
 * child: the child's writes are seen by the parent (with MAP_PRIVATE each
 * would have its own copy after fork). Only the child writes the counter,
 * so a plain ++ is safe. The parent waits for the child to be done before
 * reading the counter.
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
    /* parent: wait until the child is done, then read the counter */
    if (waitpid(pid, NULL, 0) == -1) {
        perror("waitpid failed");
        exit(1);
    }
    printf("counter = %d\n", *counter);
    munmap(counter, pagesize);
    exit(0);
}
