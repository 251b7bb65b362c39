using InitOs.Box;

// The multi-call binary: Main only dispatches, on argv[0] (busybox style: /init,
// /sbin/init …) or on the first argument (`initos init`, `initos version`).
PlainStdio.Install();
return Applets.Dispatch(Environment.GetCommandLineArgs()[0], args);
