#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# scripts/check_outbound.sh — nothing leaves the server but answers and what an operator configured: the only code
# that may open a connection to another host is the server's HTTP client (web/partners.c, libcurl), to the partner
# operators `covoit partner add` names and the register of carpool proofs of --proof-url (web/proofs.c calls it). Every other use of a call that can reach out (connect, libcurl, name
# resolution, datagrams) is a fault, except the listening socket (web/acceptor.c: socket, bind, listen, accept)
# and the resolution of the address to listen on (cli/cmd_serve.c). Prints each use found elsewhere; exit 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\b(connect|sendto|sendmsg|getaddrinfo|gethostbyname|gethostbyname2|curl_easy_[a-z_]+|curl_multi_[a-z_]+|socket)[[:space:]]*\('
allowed() {
    case "$1:$2" in
    web/partners.c:*) return 0 ;;                  # the configured partner operators and proof register
    web/acceptor.c:socket) return 0 ;;             # the listening socket
    cli/cmd_serve.c:getaddrinfo) return 0 ;;       # the address to listen on (--listen HOST:PORT)
    esac
    return 1
}
bad=0
for file in $(git ls-files '*.c' '*.cpp' '*.h' | grep -vE '^(tests|bench)/'); do
    # the code without its comments (the compiler's preprocessor, macros left as written)
    while IFS= read -r call; do
        [ -n "$call" ] || continue
        allowed "$file" "$call" || { echo "$file: '$call(' outside the code allowed to reach another host"; bad=1; }
    done < <(gcc -fpreprocessed -dD -E -P -x c "$file" 2>/dev/null | grep -oE "$pattern" |
        sed -E 's/[[:space:]]*\($//' | sort -u)
done
[ $bad = 0 ] && echo "outbound: only web/partners.c opens connections to other hosts (the configured partners and proof register)"
exit $bad
