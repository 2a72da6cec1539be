/*
 * prodcons N -- MISTAKE: the buffer is in plain global variables.
 *
 * The lecture's busy-waiting version with the lecture's globals (declared
 * volatile), not in shared memory. fork copies the parent's memory: the
 * producer and the consumer each get their own buffer, in, out and nb.
 * The producer fills its own copy of the buffer, then waits forever for
 * a free place; the consumer waits forever on its own nb, which stays 0.
 * Nothing is ever consumed and the program never ends.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFFER_SIZE 10

typedef struct {
    char product;
    int price;
} item;

volatile item buffer[BUFFER_SIZE];
volatile int in = 0;  /* where to produce */
volatile int out = 0; /* where to consume */
volatile int nb = 0;  /* number of items */

static void produce(item *i)
{
    while (nb == BUFFER_SIZE) {
        /* do nothing - no free place in buffer */
    }
    buffer[in].product = i->product;
    buffer[in].price = i->price;
    in = (in + 1) % BUFFER_SIZE;
    nb++;
}

static void consume(item *i)
{
    while (nb == 0) {
        /* do nothing - nothing to consume */
    }
    i->product = buffer[out].product;
    i->price = buffer[out].price;
    out = (out + 1) % BUFFER_SIZE;
    nb--;
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
    exit(failed);
}
