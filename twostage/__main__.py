from twostage.verify.cli import main

raise SystemExit(main())
