# The targets mirror package.json scripts; `make check` is what CI runs.
# `make install` (as root) puts the built service under $(PREFIX) with its production dependencies,
# a `simcast` system user, $(DATADIR), $(SYSCONFDIR)/simcast.env (made once, mode 0600, with a
# generated SESSION_SECRET; never overwritten) and the systemd unit. DESTDIR stages it elsewhere
# (packages, CI): then no user is created and nothing is chowned or reloaded.
.PHONY: setup dev run simulator migrate test typecheck check bench build install uninstall

PREFIX ?= /opt/simcast
DATADIR ?= /var/lib/simcast
SYSCONFDIR ?= /etc/simcast
UNITDIR ?= /etc/systemd/system
NODE ?= /usr/bin/node
NPM ?= npm
DESTDIR ?=

setup:
	npm ci
run dev:
	npm start
simulator:
	npm run simulator
migrate:
	npx simcast migrate
typecheck:
	npm run typecheck
test:
	npm test
check: typecheck test
bench:
	npm run bench

build:
	$(NPM) run build

install: build
	@test -n "$(DESTDIR)" || test "$$(id -u)" = 0 || { echo "make install: run as root (or stage with DESTDIR=…)" >&2; exit 1; }
	rm -rf "$(DESTDIR)$(PREFIX)/dist" "$(DESTDIR)$(PREFIX)/node_modules"
	install -d -m 0755 "$(DESTDIR)$(PREFIX)"
	cp -R dist views public bin package.json package-lock.json "$(DESTDIR)$(PREFIX)/"
	cd "$(DESTDIR)$(PREFIX)" && $(NPM) ci --omit=dev --ignore-scripts --no-audit --no-fund
	@if [ -z "$(DESTDIR)" ] && ! id -u simcast >/dev/null 2>&1; then \
	  echo "creating the system user simcast"; \
	  useradd --system --home-dir "$(DATADIR)" --no-create-home --shell /usr/sbin/nologin simcast; \
	fi
	install -d -m 0750 "$(DESTDIR)$(DATADIR)"
	@if [ -z "$(DESTDIR)" ]; then chown simcast:simcast "$(DATADIR)"; fi
	install -d -m 0755 "$(DESTDIR)$(SYSCONFDIR)"
	@if [ -e "$(DESTDIR)$(SYSCONFDIR)/simcast.env" ]; then \
	  echo "$(DESTDIR)$(SYSCONFDIR)/simcast.env exists: kept as it is"; \
	else \
	  umask 077; secret=$$(head -c 32 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_'); \
	  { echo "# simcast settings (read by systemd as root; mode 0600). See README.md, «Настройки запуска»."; \
	    echo "SESSION_SECRET=$$secret"; \
	    echo "# PostgreSQL server; unset: the embedded database in $(DATADIR)"; \
	    echo "#DATABASE_URL=postgres://simcast:password@127.0.0.1:5432/simcast"; \
	    echo "# Asterisk AMI; unset: the built-in simulator (nothing is really sent)"; \
	    echo "#AMI_HOST=127.0.0.1"; echo "#AMI_USER=simcast"; echo "#AMI_SECRET="; \
	    echo "#HOST=0.0.0.0"; echo "#PORT=3000"; \
	    echo "# Heap limit of the list-import worker, MB (100 000 rows need about 128)"; \
	    echo "#IMPORT_MAX_HEAP_MB=512"; \
	  } > "$(DESTDIR)$(SYSCONFDIR)/simcast.env"; \
	  chmod 0600 "$(DESTDIR)$(SYSCONFDIR)/simcast.env"; \
	  echo "created $(DESTDIR)$(SYSCONFDIR)/simcast.env"; \
	fi
	install -d -m 0755 "$(DESTDIR)$(UNITDIR)"
	sed -e 's#/opt/simcast#$(PREFIX)#g' -e 's#/var/lib/simcast#$(DATADIR)#g' -e 's#/etc/simcast/#$(SYSCONFDIR)/#g' \
	    -e 's#/usr/bin/node#$(NODE)#g' asterisk/simcast.service > "$(DESTDIR)$(UNITDIR)/simcast.service"
	chmod 0644 "$(DESTDIR)$(UNITDIR)/simcast.service"
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload || true; fi
	@echo "installed into $(DESTDIR)$(PREFIX); then: edit $(SYSCONFDIR)/simcast.env, systemctl enable --now simcast"

# Keeps the settings and the data: remove $(SYSCONFDIR) and $(DATADIR) by hand if wanted.
uninstall:
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null 2>&1; then systemctl disable --now simcast 2>/dev/null || true; fi
	rm -f "$(DESTDIR)$(UNITDIR)/simcast.service"
	cd "$(DESTDIR)$(PREFIX)" 2>/dev/null && rm -rf dist node_modules views public bin package.json package-lock.json || true
	rmdir "$(DESTDIR)$(PREFIX)" 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload || true; fi
	@echo "kept $(SYSCONFDIR) and $(DATADIR) (settings, data)"
