/* state/gc.h: collecting what ended or killed helpers left behind. */
#ifndef MD_STATE_GC_H
#define MD_STATE_GC_H

/* Collect the registry entries whose helper is gone: their cgroups, their
 * host ports, then their leases and entries, in that order, each entry
 * only once what it describes is gone (SECURITY.md 43). Takes the lock
 * itself, twice, and holds it across none of the removals (42).
 * Not patient: an ended container whose port the kernel is still removing
 * is left for later. Patient: the port is waited for a moment, then
 * deleted from the host side (its namespace may be held open by a
 * process of the student's). Returns how many entries are left. */
int state_gc(int patient);

#endif
