/*
 * sender -- MISTAKE: the message size is sizeof(struct message).
 *
 * As on the lecture's slide. msgsnd's size is the size of the text only:
 * sizeof(struct message) also counts the long mtype (and padding), so the
 * message put in the queue is 32 bytes instead of the 20 of mtext, and
 * msgsnd reads past the end of msg.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    /* send a message */
    msg.mtype = 1;
    strcpy(msg.mtext, "hello vietnam");
    if (msgsnd(msgid, &msg, sizeof(struct message), 0) == -1) {
        perror("msgsnd failed");
        exit(1);
    }
    exit(0);
}
