/* sync.h: the helper and its container child step in lockstep over a
 * socketpair; each message is one byte, optionally carrying one fd. */
#ifndef MD_SYNC_H
#define MD_SYNC_H

void sync_pair(int sv[2]);
void sync_send(int sock, char msg, int fd);
/* Returns the byte, or 0 at EOF (the peer exited, or exec'd: the socket is
 * close-on-exec). If fd is not NULL, a passed fd lands there (-1 if none). */
char sync_recv(int sock, int *fd);
/* Receive and insist on one particular byte; dies otherwise. */
void sync_expect(int sock, char want);

#endif
