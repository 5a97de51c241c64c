# warden (rpm) %post: the warden-server system user, its state directory and its configuration.
# $1 is 1 on install, 2 on upgrade. The service is installed disabled.
getent group warden >/dev/null || groupadd --system warden
getent passwd warden >/dev/null || useradd --system --gid warden --home-dir /var/lib/warden \
    --no-create-home --shell /sbin/nologin --comment "Warden server" warden
install -d -o warden -g warden -m 0750 /var/lib/warden
install -d -o root -g warden -m 0750 /etc/warden
[ -e /etc/warden/server.toml ] || install -o root -g warden -m 0640 /usr/share/warden/server.toml /etc/warden/server.toml
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 2 ] && systemctl is-active --quiet warden-server.service; then
        systemctl restart warden-server.service || :
    fi
    if [ "$1" -ge 2 ] && systemctl is-active --quiet warden-enforce.service; then
        systemctl restart warden-enforce.service || :
    fi
fi
exit 0
