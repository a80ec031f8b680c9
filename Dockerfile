# The lanes controller image (`lanes install` runs it as lanes:VERSION). Not built in this
# repository's CI: its machines reach no image registry.
FROM node:24-slim
WORKDIR /lanes
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
USER 65532:65532
ENTRYPOINT ["node", "src/tools/cli/main.ts"]
