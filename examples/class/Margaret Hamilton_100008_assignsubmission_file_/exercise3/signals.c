/*
 * signals -- WARNING ONLY: the lecture's own code, printf inside the handler.
 *
 * It behaves as asked (dots, "Signal 20 => pause", "Signal 2 => End of
 * the program", status 0), and every line ends with \n so nothing stays
 * in the buffer. But printf and exit are not async-signal-safe: if the
 * signal arrives while main is itself inside printf, stdout's buffer can
 * be corrupted. A handler should use write(1, ...) and _exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>

void handler(int signal_num) {
  printf("Signal %d => ", signal_num);
  switch (signal_num) {
    case SIGTSTP:
    printf("pause\n");
    break;
    case SIGINT:
    case SIGTERM:
    printf("End of the program\n");
    exit(0);
    break;
  }
}

int main(void) {
  signal(SIGTSTP, handler);
  /* if control-Z */
  signal(SIGINT, handler);
  /* if control-C */
  signal(SIGTERM, handler);
  /* if kill process */
  while (1) {
  sleep(1);
  printf(".\n");
  }
  printf("end");
  exit(0);
}
