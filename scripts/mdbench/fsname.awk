# fsname.awk: the file system a directory is on, named as the kernel mounted
# it, for mdbench.sh. Input, as MB_FS_PROBE prints it where the directory is:
#   line 1:  `stat -f -c '%T %t' .` (NAME MAGIC)
#   line 2:  `pwd` (the directory)
#   then:    /proc/self/mountinfo
# The mount that holds the directory (the longest mount point above it, the
# last one of equals: mounted on top) gives the type: ext4, overlay, tmpfs.
# statfs(2) cannot: ext2, ext3 and ext4 share one magic number, which GNU
# stat calls "ext2/ext3", and busybox's calls overlayfs and others UNKNOWN.
# Without a mount table (or in data from before it was probed) the magic
# number names what it can. Commas would break the CSV.
function under(d, m) { return m == "/" || d == m || substr(d, 1, length(m) + 1) == m "/" }
NR == 1 { n = $1; m = $NF; next }
NR == 2 { dir = $0; next }
{
	mp = $5; gsub(/\\040/, " ", mp)
	for (i = 6; i < NF && $i != "-"; i++) ;
	if ($i == "-" && under(dir, mp) && length(mp) >= best) { best = length(mp); type = $(i + 1) }
}
END {
	if (NR == 0) exit
	if (type != "") n = (type == "overlay") ? "overlayfs" : type
	else if (n == "UNKNOWN" || n == "" || m == "ef53") {
		n = (m == "794c7630") ? "overlayfs" : (m == "ef53") ? "ext2/3/4" : (m == "1021994") ? "tmpfs" : \
		    (m == "858458f6") ? "ramfs" : (m == "9123683e") ? "btrfs" : (m == "58465342") ? "xfs" : "magic 0x" m
	}
	gsub(/,/, ";", n); print n
}
