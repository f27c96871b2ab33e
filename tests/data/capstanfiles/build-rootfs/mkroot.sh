set -e
rm -rf out
mkdir -p out/bin out/srv/www
printf '#!/bin/sh\n' > out/bin/server
chmod 755 out/bin/server
printf '<h1>hi</h1>\n' > out/srv/www/index.html
