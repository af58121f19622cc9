from twostage.cli import main

raise SystemExit(main())
