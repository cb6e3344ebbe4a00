# md2html.awk: Markdown to HTML for exactly what mdbench.sh's report writes:
# headings, lists, tables, images (the SVG in the browser), paragraphs,
# `code`, **bold**. Not a Markdown converter for anything else.
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function inline(s) {
	s = esc(s)
	while (match(s, /`[^`]*`/)) s = substr(s, 1, RSTART - 1) "<code>" substr(s, RSTART + 1, RLENGTH - 2) "</code>" substr(s, RSTART + RLENGTH)
	while (match(s, /\*\*[^*]*\*\*/)) s = substr(s, 1, RSTART - 1) "<strong>" substr(s, RSTART + 2, RLENGTH - 4) "</strong>" substr(s, RSTART + RLENGTH)
	return s
}
function close_all() {
	if (inlist) print "</ul>"; if (intable) print "</tbody></table>"; if (inpara) print "</p>"
	inlist = intable = inpara = 0
}
BEGIN {
	print "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mdbench report</title>"
	print "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.2em .5em;text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}code{background:#eee}</style>"
	print "</head><body>"
}
/^#+ / { close_all(); l = index($0, " ") - 1; printf "<h%d>%s</h%d>\n", l, inline(substr($0, l + 2)), l; next }
/^!\[/ {
	close_all(); alt = $0; sub(/^!\[/, "", alt); sub(/\].*/, "", alt)
	src = $0; sub(/.*\(/, "", src); sub(/\).*/, "", src); sub(/\.png$/, ".svg", src)
	printf "<p><img src=\"%s\" alt=\"%s\"></p>\n", src, esc(alt); next
}
/^\|/ {
	if (inlist || inpara) close_all()
	if ($0 ~ /^\|(---\|)+$/) next
	n = split($0, c, "|")
	if (!intable) { print "<table><thead><tr>"; for (i = 2; i < n; i++) printf "<th>%s</th>", inline(c[i]); print "</tr></thead><tbody>"; intable = 1; next }
	printf "<tr>"; for (i = 2; i < n; i++) printf "<td>%s</td>", inline(c[i]); print "</tr>"; next
}
/^- / { if (intable || inpara) close_all(); if (!inlist) { print "<ul>"; inlist = 1 }; printf "<li>%s</li>\n", inline(substr($0, 3)); next }
/^$/ { close_all(); next }
{ if (intable || inlist) close_all(); if (!inpara) { printf "<p>"; inpara = 1 } else printf " "; printf "%s", inline($0); next }
END { close_all(); print "</body></html>" }
