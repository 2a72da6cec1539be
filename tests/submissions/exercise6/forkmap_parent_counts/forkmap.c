/*
 * forkmap N -- MISTAKE: the page is mapped MAP_SHARED | MAP_ANONYMOUS and a
 * child is forked, but the child adds nothing: it exits at once, and the
 * parent, once it has waited for it, counts to N itself. The output is
 * right, yet no addition of the child ever reached the parent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int *counter, i, n;

    if (argc != 2) {
        printf("usage: forkmap N\n");
        exit(1);
    }
    n = atoi(argv[1]);
    counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counter == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    if (fork() == 0)
        exit(0); /* MISTAKE: the child adds nothing */
    wait(NULL);
    for (i = 0; i < n; i++) /* MISTAKE: the parent counts by itself */
        (*counter)++;
    printf("counter = %d\n", *counter);
    return 0;
}
