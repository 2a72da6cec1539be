/*
 * sender -- send one message "hello vietnam" of type 1 on queue 1234.
 *
 * A correct alternative: the size given to msgsnd is that of the text
 * with its final '\0' (strlen + 1, 14 bytes), not the whole text field:
 * the mtype field is not counted, and the receiver gets a C string.
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
    if (msgsnd(msgid, &msg, strlen(msg.mtext) + 1, 0) == -1) {
        perror("msgsnd failed");
        exit(1);
    }
    exit(0);
}
