/*
 * receiver -- MISTAKE: the buffer size is sizeof(struct message).
 *
 * As on the lecture's slide: msgrcv may write up to 32 bytes into mtext,
 * which only holds 20.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/types.h>

struct message {
    long mtype;
    char mtext[20];
};

int main(void)
{
    int msgid;
    key_t key = 1234;
    struct message msg;

    /* get the queue: it must already exist */
    if ((msgid = msgget(key, 0666)) < 0) {
        perror("msgget failed");
        exit(1);
    }
    /* receive a message (any type), waiting for one if needed */
    if (msgrcv(msgid, &msg, sizeof(struct message), 0, 0) == -1) {
        perror("msgrcv failed");
        exit(1);
    }
    printf("received : %s\n", msg.mtext);
    exit(0);
}
