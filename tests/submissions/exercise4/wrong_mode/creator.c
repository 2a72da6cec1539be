/*
 * creator -- MISTAKE: the queue is created with mode 0600 instead of 0666.
 *
 * rw------- : only its owner can use the queue; other users' senders and
 * receivers get "Permission denied". The exercise asks for rw-rw-rw-.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/types.h>

int main(void)
{
    key_t key = 1234;

    /* create the queue */
    if (msgget(key, IPC_CREAT | 0600) < 0) {
        perror("msgget failed");
        exit(1);
    }
    exit(0);
}
