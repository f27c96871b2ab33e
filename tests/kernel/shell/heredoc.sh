# here-documents and here-strings feed builtins through pipes
show() { while IFS= read -r l; do echo "got: $l"; done; }
n=6
show <<EOF2
line one
$((n * 7)) expanded, $n too
EOF2
show <<'EOF2'
$n stays as written
EOF2
show <<-EOF2
	tabs stripped
	EOF2
read -r a b <<EOF2
first second third
EOF2
echo "a=$a b=$b"
