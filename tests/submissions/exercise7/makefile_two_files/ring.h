/* ring.h -- the lecture's ring buffer, in shared memory, with semaphores */
#ifndef RING_H
#define RING_H

#define BUFFER_SIZE 10

typedef struct {
    char product;
    int price;
} item;

int ring_open(void);        /* map and initialise it: before fork */
void ring_put(const item *i); /* the producer: waits for a free place */
void ring_get(item *i);     /* the consumer: waits for an item */
void ring_close(void);

#endif
