#!/usr/bin/env bash
# The README's curl walkthrough, against a running service (make run), with its real output.
#   ABSEN_ADMIN_USERNAME=admin ABSEN_ADMIN_PASSWORD=admin-walkthrough-pw make run   # in another shell
#   bash scripts/walkthrough.sh [base-url]
# Photos: three of Jerry Seinfeld and one of Mindy Kaling from ../shared/datasets/people, a group
# photo, and a text file named .jpg. Tokens are printed shortened.
set -euo pipefail
B=${1:-localhost:5000}
PEOPLE=${ABSEN_DATASETS:-../shared/datasets}/people
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jerry=("$PEOPLE"/jerry_seinfeld/*)
cp "${jerry[0]}" "$work/photo1.jpg"; cp "${jerry[1]}" "$work/photo2.jpg"
cp "${jerry[2]}" "$work/selfie.jpg"; cp "${jerry[3]}" "$work/kiosk.jpg"
cp "$(ls "$PEOPLE"/mindy_kaling/* | head -1)" "$work/stranger.jpg"
cp "$PEOPLE/../groups/two_people.jpg" "$work/group.jpg"
echo "meeting notes" > "$work/notes.jpg"
cd "$work"

# Print the command as typed (tokens by their variable name), then its output.
show() {
  local line="" arg
  for arg in "$@"; do
    arg=${arg//${TOKEN:-@@}/\$TOKEN}
    arg=${arg//${EMP:-@@}/\$EMP}
    if [[ $arg =~ ^[A-Za-z0-9_./:=@-]+$ ]]; then line+="$arg "
    elif [[ $arg == *'$'* ]]; then line+="\"$arg\" "
    else line+="'$arg' "
    fi
  done
  echo "\$ ${line% }"
  "$@"
  echo
}
login() { curl -s -X POST "$B/login" -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}"; }

show curl -s "$B/health"
echo "\$ TOKEN=\$(curl -s -X POST $B/login ... admin ... | jq -r .access_token)"
TOKEN=$(login admin admin-walkthrough-pw | jq -r .access_token)
show curl -s -X POST "$B/login" -H 'Content-Type: application/json' -d '{"username":"admin","password":"wrong"}'
show curl -s -X POST "$B/register" -H "Authorization: Bearer $TOKEN" -F employee_id=EMP-001 -F "name=Jerry Seinfeld" \
  -F password=choose-a-good-one -F photo=@photo1.jpg -F photo=@photo2.jpg
show curl -s -X POST "$B/register" -H "Authorization: Bearer $TOKEN" -F employee_id=EMP-001 -F name=Again -F photo=@photo1.jpg
show curl -s -X POST "$B/register" -H "Authorization: Bearer $TOKEN" -F employee_id=EMP-002 -F name=Group -F photo=@group.jpg
show curl -s -X POST "$B/register" -H "Authorization: Bearer $TOKEN" -F employee_id=EMP-002 -F name=Text -F photo=@notes.jpg
echo "\$ EMP=\$(curl -s -X POST $B/login ... EMP-001 ... | jq -r .access_token)"
EMP=$(login EMP-001 choose-a-good-one | jq -r .access_token)
show curl -s -X POST "$B/predict" -H "Authorization: Bearer $EMP" -F photo=@selfie.jpg
show curl -s -X POST "$B/predict" -H "Authorization: Bearer $EMP" -F photo=@selfie.jpg
show curl -s -X POST "$B/predict" -H "Authorization: Bearer $EMP" -F photo=@stranger.jpg
show curl -s -X POST "$B/predict" -H "Authorization: Bearer $EMP" -F employee_id=EMP-999 -F photo=@selfie.jpg
show curl -s -X POST "$B/register" -H "Authorization: Bearer $EMP" -F employee_id=EMP-003 -F name=X -F photo=@selfie.jpg
show curl -s -X POST "$B/predict" -H "Authorization: Bearer $TOKEN" -F photo=@kiosk.jpg
show curl -s -X POST "$B/predict" -H "Authorization: Bearer $TOKEN" -F photo=@stranger.jpg
show curl -s -X POST "$B/logout" -H "Authorization: Bearer $EMP"
show curl -s -X POST "$B/predict" -H "Authorization: Bearer $EMP" -F photo=@selfie.jpg
show curl -s "$B/health"
