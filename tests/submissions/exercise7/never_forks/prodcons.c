/*
 * prodcons N -- MISTAKE: no process is forked. One process fills the ring
 * buffer and empties it in turn, so the output is right, but there is no
 * producer and no consumer process sharing anything.
 */
#include <stdio.h>
#include <stdlib.h>

#define BUFFER_SIZE 10

typedef struct {
    char product;
    int price;
} item;

item buffer[BUFFER_SIZE];
int in = 0, out = 0, nb = 0;

int main(int argc, char *argv[])
{
    int n, made = 0, used = 0;

    if (argc != 2) {
        printf("usage: prodcons N\n");
        exit(1);
    }
    n = atoi(argv[1]);
    while (used < n) {
        while (made < n && nb < BUFFER_SIZE) {
            buffer[in].product = 'a' + made % 26;
            buffer[in].price = made;
            in = (in + 1) % BUFFER_SIZE;
            nb++;
            made++;
        }
        while (nb > 0) {
            printf("consumed %c %d\n", buffer[out].product, buffer[out].price);
            out = (out + 1) % BUFFER_SIZE;
            nb--;
            used++;
        }
    }
    exit(0);
}
