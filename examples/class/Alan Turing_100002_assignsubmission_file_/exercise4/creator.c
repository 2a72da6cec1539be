/*
 * creator -- create the System V message queue of key 1234.
 *
 * Reference solution: msgget with IPC_CREAT creates the queue (or finds
 * it if it is already there) with permissions rw-rw-rw- (0666).
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
    if (msgget(key, IPC_CREAT | 0666) < 0) {
        perror("msgget failed");
        exit(1);
    }
    exit(0);
}
