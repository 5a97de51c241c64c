# warden (rpm) %preun: $1 is 0 when the package is erased (not upgraded): stop and disable the server.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl stop warden-server.service >/dev/null 2>&1 || :
    systemctl disable warden-server.service >/dev/null 2>&1 || :
    systemctl stop warden-enforce.service >/dev/null 2>&1 || :
    systemctl disable warden-enforce.service >/dev/null 2>&1 || :
fi
exit 0
