/** Test app: runs but never listens (the start timeout must catch it). SIGTERM kills it. */
console.log('idle app up, not listening');
setInterval(() => {}, 1000);
