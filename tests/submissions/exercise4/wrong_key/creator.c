/*
 * creator -- MISTAKE: the queue is created with key 0x1234, not 1234.
 *
 * 0x1234 is hexadecimal (4660 in decimal): the queue exists, and sender and
 * receiver find it because they make the same mistake, but it is not the
 * queue of key 1234 (0x4d2) that the exercise asks for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/types.h>

int main(void)
{
    key_t key = 0x1234;

    /* create the queue */
    if (msgget(key, IPC_CREAT | 0666) < 0) {
        perror("msgget failed");
        exit(1);
    }
    exit(0);
}
