from callbridge.cli import main

raise SystemExit(main())
