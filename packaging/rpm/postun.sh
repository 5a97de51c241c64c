# warden (rpm) %postun: RPM has no purge; /etc/warden, /var/lib/warden and the warden user are kept after
# `dnf remove` (delete them by hand to forget the server's data).
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
