/*
 * forkmap N -- MISTAKE: the shared page is mapped and a child is forked and
 * waited for, but nobody counts: the parent prints N, its own argument, as
 * if it were the counter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int *counter;

    if (argc != 2) {
        printf("usage: forkmap N\n");
        exit(1);
    }
    counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counter == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    if (fork() == 0)
        exit(0); /* MISTAKE: the child adds nothing */
    wait(NULL);
    printf("counter = %s\n", argv[1]); /* MISTAKE: prints its argument */
    return 0;
}
