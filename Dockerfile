# shadowtap: multi-stage build. The build stage runs the README's set-up steps (npm ci builds dist/
# through the prepare script); the runtime image carries only Node, libpcap's runtime library and
# the built agent, and runs as a non-root user.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ libpcap-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
# cap (sniff's libpcap binding) is vendored there and built by npm ci (file:native/cap)
COPY native ./native
COPY bin ./bin
COPY src ./src
COPY proto ./proto
COPY scripts ./scripts
COPY test ./test
COPY bench ./bench
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpcap0.8 libcap2-bin tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/shadowtap --create-home shadowtap
WORKDIR /opt/shadowtap
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
# node_modules/cap is a link to native/cap (with its build/Release/cap.node)
COPY --from=build /src/native ./native
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/proto ./proto
# sniff needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode). A copy of node carries them as file
# capabilities so the non-root user can capture; only the sniff DaemonSet runs it (its `command`). The plain
# node stays without file capabilities: the kernel refuses to exec a binary whose file capabilities the
# container lacks, and mirror/collect need none.
RUN cp "$(readlink -f /usr/local/bin/node)" /opt/shadowtap/node-capture \
    && setcap cap_net_raw,cap_net_admin+eip /opt/shadowtap/node-capture
EXPOSE 4789/udp 4789/tcp 9464 9465
USER shadowtap
ENV SHADOWTAP_STATE_DIR=/var/lib/shadowtap
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/shadowtap/bin/shadowtap.js"]
CMD ["--help"]
