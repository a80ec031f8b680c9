/** Test app: writes to stdout and stderr, then exits with code 3 after 100 ms. */
console.log('crash app up');
setTimeout(() => {
  console.error('crash app exiting with 3');
  process.exit(3);
}, 100);
