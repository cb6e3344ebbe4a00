# fsname.awk: "NAME MAGIC" from `stat -f -c '%T %t'` to a file system's name
# for mdbench.sh: busybox's stat calls overlayfs and others UNKNOWN, so the
# magic number (statfs(2)) names them. Commas would break the CSV.
NR == 1 {
	n = $1; m = $NF
	if (n == "UNKNOWN" || n == "") {
		n = (m == "794c7630") ? "overlayfs" : (m == "ef53") ? "ext2/3/4" : (m == "1021994") ? "tmpfs" : \
		    (m == "858458f6") ? "ramfs" : (m == "9123683e") ? "btrfs" : (m == "58465342") ? "xfs" : "magic 0x" m
	}
	gsub(/,/, ";", n); print n
}
