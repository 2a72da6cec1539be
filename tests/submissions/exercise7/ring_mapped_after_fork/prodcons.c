/*
 * prodcons N -- MISTAKE: the semaphores are in a shared mapping made before
 * fork, but the ring buffer (items, in, out) is mapped by each child after
 * fork: a mapping belongs to the process that made it, so the producer
 * fills its own ring and the consumer reads another, never written, one.
 * The semaphores keep them in step, and the consumer prints items of zeros.
 */
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFFER_SIZE 10

typedef struct {
    char product;
    int price;
} item;

struct ring {
    item buffer[BUFFER_SIZE];
    int in, out;
};

struct sems {
    sem_t empty, full;
};

static struct ring *map_ring(void)
{
    struct ring *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    return r;
}

int main(int argc, char *argv[])
{
    struct sems *s;
    struct ring *r;
    int i, n;

    if (argc != 2) {
        printf("usage: prodcons N\n");
        exit(1);
    }
    n = atoi(argv[1]);
    s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    sem_init(&s->empty, 1, BUFFER_SIZE);
    sem_init(&s->full, 1, 0);
    if (fork() == 0) {
        r = map_ring(); /* MISTAKE: after fork, the producer's own ring */
        for (i = 0; i < n; i++) {
            sem_wait(&s->empty);
            r->buffer[r->in].product = 'a' + i % 26;
            r->buffer[r->in].price = i;
            r->in = (r->in + 1) % BUFFER_SIZE;
            sem_post(&s->full);
        }
        exit(0);
    }
    if (fork() == 0) {
        r = map_ring(); /* MISTAKE: after fork, the consumer's own ring */
        for (i = 0; i < n; i++) {
            item it;
            sem_wait(&s->full);
            it = r->buffer[r->out];
            r->out = (r->out + 1) % BUFFER_SIZE;
            sem_post(&s->empty);
            printf("consumed %c %d\n", it.product, it.price);
        }
        exit(0);
    }
    wait(NULL);
    wait(NULL);
    return 0;
}
