/*
 * prodcons N -- MISTAKE: the shared nb is not declared volatile.
 *
 * The lecture's busy-waiting version, in a MAP_SHARED | MAP_ANONYMOUS
 * mapping, but without volatile. Nothing in "while (nb == 0) ;" changes
 * nb, so the compiler may read nb once, before the loop: built with -O2,
 * a process that finds the buffer empty (or full) spins forever on that
 * old value and never sees the other process's change; the program
 * hangs. Built without optimisation it usually works, which hides the
 * mistake. (It also keeps the lecture's busy waiting and unsynchronised
 * nb++/nb--.)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFFER_SIZE 10

typedef struct {
    char product;
    int price;
} item;

struct shared {
    item buffer[BUFFER_SIZE];
    int in;  /* where to produce */
    int out; /* where to consume */
    int nb;  /* number of items */
};

static struct shared *sh;

static void produce(item *i)
{
    while (sh->nb == BUFFER_SIZE) {
        /* do nothing - no free place in buffer */
    }
    sh->buffer[sh->in].product = i->product;
    sh->buffer[sh->in].price = i->price;
    sh->in = (sh->in + 1) % BUFFER_SIZE;
    sh->nb++;
}

static void consume(item *i)
{
    while (sh->nb == 0) {
        /* do nothing - nothing to consume */
    }
    i->product = sh->buffer[sh->out].product;
    i->price = sh->buffer[sh->out].price;
    sh->out = (sh->out + 1) % BUFFER_SIZE;
    sh->nb--;
}

int main(int argc, char *argv[])
{
    pid_t producer, consumer;
    int status, failed = 0;
    item it;
    int i, n;

    if (argc != 2) {
        printf("usage: prodcons N\n");
        exit(1);
    }
    n = atoi(argv[1]);
    /* the buffer, in, out and nb, shared with the children */
    sh = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    sh->in = 0;
    sh->out = 0;
    sh->nb = 0;
    /* the producer */
    if ((producer = fork()) < 0) {
        perror("fork failed");
        exit(1);
    }
    if (producer == 0) {
        for (i = 0; i < n; i++) {
            it.product = 'a' + i % 26;
            it.price = i;
            produce(&it);
        }
        exit(0);
    }
    /* the consumer */
    if ((consumer = fork()) < 0) {
        perror("fork failed");
        kill(producer, SIGKILL);
        exit(1);
    }
    if (consumer == 0) {
        for (i = 0; i < n; i++) {
            consume(&it);
            printf("consumed %c %d\n", it.product, it.price);
        }
        exit(0); /* exit, not _exit: it flushes stdout */
    }
    /* the parent waits for both */
    if (waitpid(producer, &status, 0) == -1 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        failed = 1;
    if (waitpid(consumer, &status, 0) == -1 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        failed = 1;
    munmap(sh, sizeof(struct shared));
    exit(failed);
}
