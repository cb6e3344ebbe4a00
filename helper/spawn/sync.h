/* sync.h: the helper and its container child step in lockstep over a
 * socketpair; each message is one byte, optionally carrying one fd. */
#ifndef MD_SYNC_H
#define MD_SYNC_H

/* The handshake, in the order the messages go (run: all of them; exec:
 * READY, GO, and EXEC_FAILED). */
enum sync_msg {
	SYNC_EOF = 0,             /* the peer exited, or exec'd */
	SYNC_CONFIGURE = 'C',     /* parent: you are in your cgroup, set up */
	SYNC_NET_READY = 'N',     /* parent: eth1 exists (bridge only) */
	SYNC_USERNS_MADE = 'U',   /* child: my user namespace exists */
	SYNC_MAPPED = 'M',        /* parent: its id maps are written */
	SYNC_READY = 'X',         /* child: ready to exec [pty master] */
	SYNC_GO = 'G',            /* parent: exec now */
	SYNC_EXEC_FAILED = 'E',   /* child: the command could not run */
};

void sync_pair(int sv[2]);
/* 0, or -1 when the peer is gone: it said why, so the caller ends
 * quietly (a refusal is one line, never two). */
int sync_send(int sock, enum sync_msg msg, int fd);
/* Returns the message, or SYNC_EOF. If fd is not NULL, a passed fd lands
 * there (-1 if none). */
enum sync_msg sync_recv(int sock, int *fd);
/* Receive and insist on one particular message; exits 125 otherwise (the
 * peer is gone, and said why). */
void sync_expect(int sock, enum sync_msg want);

#endif
